/* Histograms for percentile calibration, in one pass over the images: the
 * range [-R, R) grows by doubling when a sample falls outside it, merging
 * neighbouring bins pairwise, so no first pass is needed to find the extremes. */
#include <math.h>
#include <string.h>

#include "compiler_core.h"

void mxu_histogram_init(struct mxu_histogram *h)
{
    memset(h, 0, sizeof *h);
    h->min = INFINITY;
    h->max = -INFINITY;
}

/* Double R: old bins 2k and 2k+1 become new bin k + BINS/4. */
static void widen(struct mxu_histogram *h)
{
    uint64_t merged[MXU_HIST_BINS / 2];
    for (uint32_t k = 0; k < MXU_HIST_BINS / 2; k++)
        merged[k] = h->bins[2 * k] + h->bins[2 * k + 1];
    memset(h->bins, 0, sizeof h->bins);
    memcpy(h->bins + MXU_HIST_BINS / 4, merged, sizeof merged);
    h->range *= 2;
}

static void grow_to(struct mxu_histogram *h, float a)
{
    if (h->range == 0) {
        int e;
        frexpf(a, &e); /* a = m * 2^e, m in [0.5, 1): 2^e > a */
        h->range = ldexpf(1.0f, e);
        return;
    }
    while (a >= h->range)
        widen(h);
}

void mxu_histogram_add(struct mxu_histogram *h, const float *data, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float x = data[i], a = fabsf(x);
        if (isnan(x) || isinf(x))
            continue;
        h->min = x < h->min ? x : h->min;
        h->max = x > h->max ? x : h->max;
        h->count++;
        if (a > 0 && a >= h->range)
            grow_to(h, a);
        if (h->range == 0) {
            h->bins[MXU_HIST_BINS / 2]++; /* zero, before any scale is known */
            continue;
        }
        int64_t bin = (int64_t)((x + h->range) / (2 * h->range) * MXU_HIST_BINS);
        bin = bin < 0 ? 0 : bin >= MXU_HIST_BINS ? MXU_HIST_BINS - 1 : bin;
        h->bins[bin]++;
    }
}

struct mxu_range mxu_histogram_range(const struct mxu_histogram *h, float percentile)
{
    struct mxu_range r = {h->min, h->max};
    if (!h->count || h->range == 0)
        return r;
    double tail = (100.0 - percentile) / 100.0 * (double)h->count;
    double width = 2.0 * h->range / MXU_HIST_BINS;
    uint64_t cum = 0;
    int32_t lo = 0, hi = MXU_HIST_BINS - 1;
    for (; lo < MXU_HIST_BINS - 1 && (double)(cum + h->bins[lo]) <= tail; lo++)
        cum += h->bins[lo];
    cum = 0;
    for (; hi > 0 && (double)(cum + h->bins[hi]) <= tail; hi--)
        cum += h->bins[hi];
    float lo_edge = (float)(-h->range + lo * width), hi_edge = (float)(-h->range + (hi + 1) * width);
    r.lo = lo_edge > h->min ? lo_edge : h->min;
    r.hi = hi_edge < h->max ? hi_edge : h->max;
    if (r.lo > r.hi)
        r.lo = r.hi = h->min;
    return r;
}
