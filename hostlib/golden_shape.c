/* Shapes of the golden kernels (see golden.h): the argument checks, output sizes
 * and in-image windows that the int8 kernels and their float twins share, so
 * both walk exactly the same taps. Coordinates are int64: no shape overflows. */
#include "golden.h"

/* Largest element count of one tensor the kernels accept. */
#define MAX_ELEMS ((int64_t)INT32_MAX)

/* a*b*c*d within MAX_ELEMS (all >= 1). */
static int elems_ok(int64_t a, int64_t b, int64_t c, int64_t d)
{
    int64_t n = a;
    n = n * b;
    if (n > MAX_ELEMS)
        return 0;
    n = n * c;
    if (n > MAX_ELEMS)
        return 0;
    n = n * d;
    return n <= MAX_ELEMS;
}

static int rounding_ok(enum mxu_rounding r)
{
    return r == MXU_ROUND_AWAY || r == MXU_ROUND_HALF_UP;
}

/* Taps k in [*first, *end) of `count` taps `step` apart from `origin` that land
 * in [0, in); origin may lie anywhere (padding). An empty range has *first >= *end. */
static void axis_taps(int64_t origin, int64_t count, int64_t step, int64_t in, int64_t *first,
                      int64_t *end)
{
    *first = origin < 0 ? (-origin + step - 1) / step : 0;
    const int64_t room = in - origin; /* taps must stay below origin + room */
    *end = room <= 0 ? 0 : (room + step - 1) / step;
    if (*end > count)
        *end = count;
}

/* The window of output index o along one axis has an in-image tap. */
static int window_has_taps(int64_t o, int32_t stride, int32_t pad, int32_t filter, int32_t in)
{
    int64_t first, end;
    axis_taps(o * stride - pad, filter, 1, in, &first, &end);
    return first < end;
}

int mxu_golden_check_conv(const struct mxu_conv_params *p)
{
    if (!p)
        return mxu_fail(MXU_ERR_INVAL, "conv2d: no parameters");
    if (p->n < 1 || p->in_h < 1 || p->in_w < 1 || p->cin < 1 || p->cout < 1 || p->kh < 1 ||
        p->kw < 1 || p->out_h < 1 || p->out_w < 1)
        return mxu_fail(MXU_ERR_INVAL, "conv2d: sizes must be >= 1 (n %d, in %dx%dx%d, cout %d, kernel %dx%d, out %dx%d)",
                        p->n, p->in_h, p->in_w, p->cin, p->cout, p->kh, p->kw, p->out_h, p->out_w);
    if (p->stride_h < 1 || p->stride_w < 1 || p->dil_h < 1 || p->dil_w < 1)
        return mxu_fail(MXU_ERR_INVAL, "conv2d: stride %dx%d and dilation %dx%d must be >= 1",
                        p->stride_h, p->stride_w, p->dil_h, p->dil_w);
    if (p->pad_top < 0 || p->pad_left < 0)
        return mxu_fail(MXU_ERR_INVAL, "conv2d: negative padding (top %d, left %d)", p->pad_top, p->pad_left);
    if (p->groups < 1 || p->cin % p->groups || p->cout % p->groups)
        return mxu_fail(MXU_ERR_INVAL, "conv2d: groups %d must divide cin %d and cout %d", p->groups,
                        p->cin, p->cout);
    if (!elems_ok(p->n, p->in_h, p->in_w, p->cin) || !elems_ok(p->n, p->out_h, p->out_w, p->cout) ||
        !elems_ok(p->cout, p->kh, p->kw, p->cin / p->groups))
        return mxu_fail(MXU_ERR_INVAL, "conv2d: a tensor has more than %lld elements", (long long)MAX_ELEMS);
    if (!rounding_ok(p->rounding))
        return mxu_fail(MXU_ERR_INVAL, "conv2d: rounding %d is not an mxu_rounding", (int)p->rounding);
    return MXU_OK;
}

int mxu_golden_check_fc(const struct mxu_fc_params *p)
{
    if (!p)
        return mxu_fail(MXU_ERR_INVAL, "fc: no parameters");
    if (p->batch < 1 || p->cin < 1 || p->cout < 1)
        return mxu_fail(MXU_ERR_INVAL, "fc: sizes must be >= 1 (batch %d, cin %d, cout %d)", p->batch,
                        p->cin, p->cout);
    if (!elems_ok(p->batch, p->cin, 1, 1) || !elems_ok(p->batch, p->cout, 1, 1) ||
        !elems_ok(p->cout, p->cin, 1, 1))
        return mxu_fail(MXU_ERR_INVAL, "fc: a tensor has more than %lld elements", (long long)MAX_ELEMS);
    if (!rounding_ok(p->rounding))
        return mxu_fail(MXU_ERR_INVAL, "fc: rounding %d is not an mxu_rounding", (int)p->rounding);
    return MXU_OK;
}

int mxu_golden_check_pool(const struct mxu_pool_params *p, int need_taps)
{
    if (!p)
        return mxu_fail(MXU_ERR_INVAL, "pool: no parameters");
    if (p->n < 1 || p->in_h < 1 || p->in_w < 1 || p->c < 1 || p->out_h < 1 || p->out_w < 1 ||
        p->filter_h < 1 || p->filter_w < 1)
        return mxu_fail(MXU_ERR_INVAL, "pool: sizes must be >= 1 (n %d, in %dx%dx%d, out %dx%d, filter %dx%d)",
                        p->n, p->in_h, p->in_w, p->c, p->out_h, p->out_w, p->filter_h, p->filter_w);
    if (p->stride_h < 1 || p->stride_w < 1)
        return mxu_fail(MXU_ERR_INVAL, "pool: stride %dx%d must be >= 1", p->stride_h, p->stride_w);
    if (p->pad_top < 0 || p->pad_left < 0)
        return mxu_fail(MXU_ERR_INVAL, "pool: negative padding (top %d, left %d)", p->pad_top, p->pad_left);
    if (!elems_ok(p->n, p->in_h, p->in_w, p->c) || !elems_ok(p->n, p->out_h, p->out_w, p->c))
        return mxu_fail(MXU_ERR_INVAL, "pool: a tensor has more than %lld elements", (long long)MAX_ELEMS);
    if (need_taps) {
        /* windows move monotonically, so the first and last ones decide */
        if (!window_has_taps(0, p->stride_h, p->pad_top, p->filter_h, p->in_h) ||
            !window_has_taps(p->out_h - 1, p->stride_h, p->pad_top, p->filter_h, p->in_h) ||
            !window_has_taps(0, p->stride_w, p->pad_left, p->filter_w, p->in_w) ||
            !window_has_taps(p->out_w - 1, p->stride_w, p->pad_left, p->filter_w, p->in_w))
            return mxu_fail(MXU_ERR_INVAL, "pool: a %dx%d window lies entirely outside the %dx%d input",
                            p->filter_h, p->filter_w, p->in_h, p->in_w);
    }
    return MXU_OK;
}

/* ---- windows -------------------------------------------------------------- */

/* Window of output pixel px (flat over n, out_h, out_w) of a layer whose taps
 * are dil_h x dil_w apart; the caller's output index is px * channels_out + c. */
static void window_at(struct mxu_golden_window *w, int64_t px, int32_t out_h, int32_t out_w,
                      int32_t stride_h, int32_t stride_w, int32_t pad_top, int32_t pad_left,
                      int32_t taps_h, int32_t taps_w)
{
    const int64_t ox = px % out_w, oy = px / out_w % out_h;
    w->b = px / out_w / out_h;
    w->y0 = oy * stride_h - pad_top;
    w->x0 = ox * stride_w - pad_left;
    axis_taps(w->y0, taps_h, w->dil_h, w->in_h, &w->ky0, &w->ky1);
    axis_taps(w->x0, taps_w, w->dil_w, w->in_w, &w->kx0, &w->kx1);
}

void mxu_golden_conv_window(const struct mxu_conv_params *p, int64_t px, struct mxu_golden_window *w)
{
    w->in_h = p->in_h;
    w->in_w = p->in_w;
    w->channels = p->cin;
    w->dil_h = p->dil_h;
    w->dil_w = p->dil_w;
    window_at(w, px, p->out_h, p->out_w, p->stride_h, p->stride_w, p->pad_top, p->pad_left, p->kh, p->kw);
}

void mxu_golden_pool_window(const struct mxu_pool_params *p, int64_t px, struct mxu_golden_window *w)
{
    w->in_h = p->in_h;
    w->in_w = p->in_w;
    w->channels = p->c;
    w->dil_h = 1;
    w->dil_w = 1;
    window_at(w, px, p->out_h, p->out_w, p->stride_h, p->stride_w, p->pad_top, p->pad_left, p->filter_h,
              p->filter_w);
}

/* ---- output sizes --------------------------------------------------------- */

int mxu_conv_out_size(int32_t in, int32_t k, int32_t stride, int32_t dilation, int32_t pad_begin,
                      int32_t pad_end, int32_t *out)
{
    if (!out)
        return mxu_fail(MXU_ERR_INVAL, "conv_out_size: no output");
    *out = 0;
    if (in < 1 || k < 1 || stride < 1 || dilation < 1 || pad_begin < 0 || pad_end < 0)
        return mxu_fail(MXU_ERR_INVAL, "conv_out_size: bad size %d, kernel %d, stride %d, dilation %d or padding %d+%d",
                        in, k, stride, dilation, pad_begin, pad_end);
    const int64_t effective = (int64_t)(k - 1) * dilation + 1;
    const int64_t span = (int64_t)in + pad_begin + pad_end - effective;
    if (span < 0)
        return mxu_fail(MXU_ERR_INVAL, "conv_out_size: kernel span %lld exceeds the padded input %lld",
                        (long long)effective, (long long)in + pad_begin + pad_end);
    *out = (int32_t)(span / stride + 1);
    return MXU_OK;
}

int mxu_same_padding(int32_t in, int32_t k, int32_t stride, int32_t dilation, int32_t *out,
                     int32_t *pad_begin, int32_t *pad_end)
{
    if (!out || !pad_begin || !pad_end)
        return mxu_fail(MXU_ERR_INVAL, "same_padding: no output");
    *out = *pad_begin = *pad_end = 0;
    if (in < 1 || k < 1 || stride < 1 || dilation < 1)
        return mxu_fail(MXU_ERR_INVAL, "same_padding: bad size %d, kernel %d, stride %d or dilation %d", in,
                        k, stride, dilation);
    const int64_t effective = (int64_t)(k - 1) * dilation + 1;
    const int64_t o = ((int64_t)in + stride - 1) / stride;
    int64_t total = (o - 1) * stride + effective - in;
    if (total < 0)
        total = 0;
    if (total > INT32_MAX)
        return mxu_fail(MXU_ERR_INVAL, "same_padding: padding %lld too large", (long long)total);
    *out = (int32_t)o;
    *pad_begin = (int32_t)(total / 2);
    *pad_end = (int32_t)(total - total / 2);
    return MXU_OK;
}
