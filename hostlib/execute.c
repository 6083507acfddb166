/* Running a whole program layer by layer (mxu_execute.h): device layers as
 * their own command segments, host layers with their golden kernels on tensors
 * read back from the device. */
#include "mxu_execute.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mxu_reference.h"

struct run {
    mxu_device *dev;
    const mxu_program *p;
    uint64_t max_cycles;
    struct mxu_layer_stats *per_layer;
    mxu_counters *total;
    uint8_t **values; /* host copies of tensors, allocated on first use */
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void add_counters(mxu_counters *sum, const mxu_counters *c)
{
    sum->cycles += c->cycles;
    sum->load_busy += c->load_busy;
    sum->load_wait += c->load_wait;
    sum->compute_busy += c->compute_busy;
    sum->compute_wait += c->compute_wait;
    sum->store_busy += c->store_busy;
    sum->store_wait += c->store_wait;
    sum->array_vectors += c->array_vectors;
    sum->weight_stall += c->weight_stall;
    sum->dram_rd_bytes += c->dram_rd_bytes;
    sum->dram_wr_bytes += c->dram_wr_bytes;
    sum->insns += c->insns;
    sum->act_busy += c->act_busy;
    sum->status = c->status;
    sum->err_code = c->err_code;
    sum->err_pc = c->err_pc;
}

/* Run instructions [first, first + count) and account them. */
static int run_code(struct run *r, uint32_t first, uint32_t count, mxu_counters *c)
{
    const mxu_program *p = r->p;
    memset(c, 0, sizeof *c);
    int rc = mxu_run_commands(r->dev, p->code_addr + first * MXU_INSN_BYTES, count, r->max_cycles, c);
    if (r->total)
        add_counters(r->total, c);
    return rc;
}

static int device_layer_error(const struct run *r, uint32_t i, const mxu_counters *c, int rc)
{
    const mxu_layer *l = &r->p->layers[i];
    char detail[400];
    snprintf(detail, sizeof detail, "%s", mxu_error_detail());
    if (rc == MXU_ERR_DEVICE)
        return mxu_fail(rc, "layer %u '%.64s' (instructions %u..%u): %s (program instruction %u)", i,
                        l->name, l->code_first, l->code_first + l->code_count - 1, detail,
                        l->code_first + c->err_pc);
    return mxu_fail(rc, "layer %u '%.64s' (instructions %u..%u): %s", i, l->name, l->code_first,
                    l->code_first + l->code_count - 1, detail);
}

static int host_buffer(struct run *r, uint32_t t)
{
    if (!r->values[t]) {
        uint64_t bytes = mxu_tensor_bytes(&r->p->tensors[t]);
        r->values[t] = malloc(bytes ? (size_t)bytes : 1);
        if (!r->values[t])
            return mxu_fail(MXU_ERR_NOMEM, "host copy of tensor '%.64s' (%llu bytes)",
                            r->p->tensors[t].name, (unsigned long long)bytes);
    }
    return MXU_OK;
}

static int read_tensor(struct run *r, uint32_t t)
{
    int rc = host_buffer(r, t);
    if (rc == MXU_OK)
        rc = mxu_tensor_read(r->dev, r->p, t, r->values[t], mxu_tensor_bytes(&r->p->tensors[t]));
    return rc;
}

/* A host layer: inputs back from the device, the golden kernel, the output out. */
static int run_host_layer(struct run *r, uint32_t i)
{
    const mxu_program *p = r->p;
    const mxu_layer *l = &p->layers[i];
    double t0 = now_seconds();
    int rc = read_tensor(r, l->input);
    if (rc == MXU_OK && l->input2 != MXU_NONE)
        rc = read_tensor(r, l->input2);
    if (rc == MXU_OK)
        rc = host_buffer(r, l->output);
    if (rc == MXU_OK)
        rc = mxu_reference_layer(p, l, r->values);
    if (rc == MXU_OK)
        rc = mxu_tensor_write(r->dev, p, l->output, r->values[l->output],
                              mxu_tensor_bytes(&p->tensors[l->output]));
    if (rc != MXU_OK) {
        char detail[400];
        snprintf(detail, sizeof detail, "%s", mxu_error_detail());
        return mxu_fail(rc, "host layer %u '%.64s' (%s): %s", i, l->name, mxu_layer_op_name(l->op),
                        detail);
    }
    if (r->per_layer)
        r->per_layer[i].host_seconds = now_seconds() - t0;
    return MXU_OK;
}

static int observe_layer(mxu_layer_observer observe, void *ctx, struct run *r, uint32_t i)
{
    return observe ? observe(ctx, r->dev, r->p, i) : MXU_OK;
}

/* A program with ranges: each layer its own segment or host kernel, in order. */
static int run_ranged(struct run *r, mxu_layer_observer observe, void *ctx)
{
    const mxu_program *p = r->p;
    int rc = MXU_OK;
    for (uint32_t i = 0; rc == MXU_OK && i < p->n_layers; i++) {
        const mxu_layer *l = &p->layers[i];
        if (l->code_count) {
            mxu_counters c;
            rc = run_code(r, l->code_first, l->code_count, &c);
            if (r->per_layer)
                r->per_layer[i].counters = c;
            if (rc)
                return device_layer_error(r, i, &c, rc);
        } else {
            rc = run_host_layer(r, i);
        }
        if (rc == MXU_OK)
            rc = observe_layer(observe, ctx, r, i);
    }
    return rc;
}

/* A program without ranges: the whole code once, then the host layers. */
static int run_whole(struct run *r, mxu_layer_observer observe, void *ctx)
{
    const mxu_program *p = r->p;
    uint32_t device_layers = 0, last_device = 0;
    for (uint32_t i = 0; i < p->n_layers; i++)
        if (!mxu_layer_on_host(p, i))
            device_layers++, last_device = i;
    int rc = MXU_OK;
    if (device_layers || p->n_layers == 0) {
        mxu_counters c;
        rc = run_code(r, 0, p->n_insns, &c);
        if (r->per_layer && device_layers == 1)
            r->per_layer[last_device].counters = c;
    }
    for (uint32_t i = 0; rc == MXU_OK && i < p->n_layers; i++) {
        if (mxu_layer_on_host(p, i))
            rc = run_host_layer(r, i);
        if (rc == MXU_OK)
            rc = observe_layer(observe, ctx, r, i);
    }
    return rc;
}

int mxu_program_execute_observed(mxu_device *dev, const mxu_program *p, uint64_t max_cycles,
                                 struct mxu_layer_stats *per_layer, mxu_counters *total,
                                 mxu_layer_observer observe, void *ctx)
{
    if (!dev || !p)
        return mxu_fail(MXU_ERR_INVAL, "mxu_program_execute: NULL device or program");
    struct run r = {dev, p, max_cycles, per_layer, total, NULL};
    if (total)
        memset(total, 0, sizeof *total);
    for (uint32_t i = 0; per_layer && i < p->n_layers; i++) {
        memset(&per_layer[i], 0, sizeof per_layer[i]);
        per_layer[i].macs = mxu_layer_macs(p, &p->layers[i]);
        per_layer[i].on_host = mxu_layer_on_host(p, i);
    }
    r.values = calloc(p->n_tensors ? p->n_tensors : 1, sizeof *r.values);
    if (!r.values)
        return mxu_fail(MXU_ERR_NOMEM, "mxu_program_execute: out of memory");
    int rc = mxu_program_has_ranges(p) ? run_ranged(&r, observe, ctx) : run_whole(&r, observe, ctx);
    for (uint32_t i = 0; i < p->n_tensors; i++)
        free(r.values[i]);
    free(r.values);
    return rc;
}

int mxu_program_execute(mxu_device *dev, const mxu_program *p, uint64_t max_cycles,
                        struct mxu_layer_stats *per_layer, mxu_counters *total)
{
    return mxu_program_execute_observed(dev, p, max_cycles, per_layer, total, NULL, NULL);
}
