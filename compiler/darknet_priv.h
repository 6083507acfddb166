/* Darknet frontend internals: the .cfg reader (darknet_cfg.c), the layer
 * builder (darknet_layers.c), the .weights reader (darknet_weights.c) and the
 * public entry points (darknet.c). Semantics follow Darknet's own parser
 * (pjreddie's, as packaged by Debian) plus the AlexeyAB options the brief
 * asks for (stride_x/stride_y, dilation, swish, mish); docs/compiler-darknet.md. */
#ifndef MXU_DARKNET_PRIV_H
#define MXU_DARKNET_PRIV_H

#include <stdint.h>
#include <stdio.h>

#include "mxu_graph.h"

/* ---- the .cfg text: sections of key=value options ----------------------------- */

struct mxu_dn_option {
    const char *key, *val;   /* whitespace removed, as darknet's strip() does */
    uint32_t line;
};

struct mxu_dn_section {
    const char *type;        /* between the brackets: "convolutional" */
    uint32_t line;
    uint32_t first_opt, n_opts;
};

struct mxu_dn_cfg {
    const char *file;        /* for messages */
    char *text;              /* owned, NUL-split copy of the input */
    struct mxu_dn_section *sections;
    struct mxu_dn_option *opts;
    uint32_t n_sections, n_opts;
};

int mxu_dn_cfg_parse(const char *text, size_t len, const char *file, struct mxu_dn_cfg *cfg);
void mxu_dn_cfg_free(struct mxu_dn_cfg *cfg);

/* Option lookup: darknet takes the first occurrence of a key. */
const struct mxu_dn_option *mxu_dn_find(const struct mxu_dn_cfg *cfg,
                                        const struct mxu_dn_section *s, const char *key);
/* Integer option in [lo, hi] (default `def` when absent); MXU_ERR_FORMAT with
 * file:line on an empty value, a non-number or a value out of range. */
int mxu_dn_int(const struct mxu_dn_cfg *cfg, const struct mxu_dn_section *s, const char *key,
               long def, long lo, long hi, long *out);
/* Finite float option (default when absent). */
int mxu_dn_float(const struct mxu_dn_cfg *cfg, const struct mxu_dn_section *s, const char *key,
                 double def, double *out);
/* String option (default when absent); empty values are MXU_ERR_FORMAT. */
int mxu_dn_str(const struct mxu_dn_cfg *cfg, const struct mxu_dn_section *s, const char *key,
               const char *def, const char **out);
/* Line to report for an option (its own line, else the section's). */
uint32_t mxu_dn_line(const struct mxu_dn_cfg *cfg, const struct mxu_dn_section *s,
                     const char *key);

/* ---- the network: one record per darknet layer -------------------------------- */

enum mxu_dn_kind {
    MXU_DN_OTHER = 0,        /* no parameters in .weights */
    MXU_DN_CONV,             /* biases, [scales, mean, variance], weights */
    MXU_DN_CONNECTED,        /* biases, weights, [scales, mean, variance] */
    MXU_DN_BATCHNORM,        /* scales, mean, variance */
};

struct mxu_dn_layer {
    enum mxu_dn_kind kind;
    const char *type;        /* section name, for messages */
    uint32_t line;
    int node;                /* node holding the parameters, -1 if none */
    int value;               /* value darknet's later layers see as this layer's output */
    uint32_t ndims, h, w, c; /* that value's shape (ndims 2: h = w = 1) */
    int hwc_flat;            /* flat, but in the H,W,C order of a flattened image where
                                darknet's memory has C,H,W (a softmax over an image) */
    /* parameter geometry (CONV/CONNECTED/BATCHNORM) */
    uint32_t n;              /* filters / outputs / channels */
    uint32_t cin;            /* conv: input channels; connected: inputs */
    uint32_t ksize, groups;
    int batch_normalize, flipped;
    int no_load;             /* dontload / dontloadscales / numload set */
};

struct mxu_dn_net {
    mxu_graph *g;
    struct mxu_dn_layer *layers;
    uint32_t n_layers;
};

/* Build the graph of a parsed cfg. On failure nothing is left allocated. */
int mxu_dn_build(const struct mxu_dn_cfg *cfg, const char *name, struct mxu_dn_net *net);
void mxu_dn_net_free(struct mxu_dn_net *net);

/* Floats a .weights file must hold after its header for this network. */
uint64_t mxu_dn_weights_expected(const struct mxu_dn_net *net);
/* Read a .weights stream into the graph's conv/FC/BN nodes. */
int mxu_dn_load_weights(struct mxu_dn_net *net, const struct mxu_dn_cfg *cfg, FILE *f,
                        const char *weights_name);

/* Everything: parse, build, optionally read weights (f may be NULL). Used by
 * the public functions, the tests and the fuzzer (weights from fmemopen). */
int mxu_darknet_load_streams(const char *text, size_t len, const char *name, FILE *weights,
                             const char *weights_name, mxu_graph **out);

#endif
