/* Image data sets for calibration and evaluation: IDX files (MNIST and
 * Fashion-MNIST's format, gzip-compressed or not), binary PGM/PPM files, or a
 * directory of PGM/PPM files (sorted by name), and IDX label files. */
#ifndef MXU_DATASET_H
#define MXU_DATASET_H

#include <stdint.h>

#include "mxu_error.h"

typedef struct mxu_dataset {
    uint32_t count;          /* images */
    uint32_t h, w, c;        /* every image has this shape (c = 1 gray, 3 RGB) */
    uint8_t *pixels;         /* count * h * w * c bytes, HWC per image */
} mxu_dataset;

/* Load at most `limit` images (0 = all). MXU_ERR_FORMAT with a detail naming the
 * file and offset for a malformed file; MXU_ERR_IO when it cannot be read. */
int mxu_dataset_load(const char *path, uint32_t limit, mxu_dataset **out);
void mxu_dataset_free(mxu_dataset *d);
/* IDX1 labels (uint8), gzip or not: *labels is malloc'd, *count set. */
int mxu_labels_load(const char *path, uint32_t limit, uint8_t **labels, uint32_t *count);

/* Preprocess image i into a float NHWC tensor of shape h x w x c:
 * bilinear resize when sizes differ, gray replicated to 3 channels (or RGB
 * averaged to gray) when channel counts differ, then
 * x = (pixel * scale - mean[ch]) / std[ch], channel order swapped when bgr. */
struct mxu_preprocess;
int mxu_dataset_image(const mxu_dataset *d, uint32_t i, const struct mxu_preprocess *pre,
                      uint32_t h, uint32_t w, uint32_t c, float *out);

#endif
