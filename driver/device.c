/* The device layer: URI parsing, the table of backends, and everything above
 * raw CSR and memory access that every backend shares. */
#include <stdlib.h>
#include <string.h>

#include "mxu.h"
#include "mxu_backend.h"
#include "mxu_heap.h"
#include "mxu_isa.h"

struct mxu_device {
    const struct mxu_backend_ops *ops;
    void *state;
    mxu_hw_config cfg;
    struct mxu_heap heap; /* mxu_dev_alloc's blocks of device DRAM */
};

static const struct mxu_backend_ops *const backends[] = {
    &mxu_backend_model,
    &mxu_backend_rtl,
    &mxu_backend_icarus,
    &mxu_backend_usb,
};

static const char *const config_keys[] = {"rows", "cols", "ub", "ub_lines", "acc", "wb",
                                          "params", "dram", "beat", "queue", "tokens"};

static int is_config_item(const char *item, size_t len)
{
    const char *eq = memchr(item, '=', len);
    size_t klen = eq ? (size_t)(eq - item) : len;
    if (!eq) /* "8x16" */
        return memchr(item, 'x', len) != NULL;
    for (size_t i = 0; i < sizeof config_keys / sizeof *config_keys; i++)
        if (strlen(config_keys[i]) == klen && !memcmp(config_keys[i], item, klen))
            return 1;
    return 0;
}

/* Split "a=1,b=2,..." into the configuration keys and the backend's options. */
static int split_args(const char *args, char *cfg, char *opts, size_t len)
{
    cfg[0] = opts[0] = 0;
    for (const char *p = args; *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char *dst = is_config_item(p, n) ? cfg : opts;
        size_t used = strlen(dst);
        if (used + n + 2 > len)
            return mxu_fail(MXU_ERR_INVAL, "device URI too long");
        if (n) {
            if (used)
                dst[used++] = ',';
            memcpy(dst + used, p, n);
            dst[used + n] = 0;
        }
        p += n + (end != NULL);
    }
    return MXU_OK;
}

static const struct mxu_backend_ops *find_backend(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof backends / sizeof *backends; i++)
        if (strlen(backends[i]->name) == len && !memcmp(backends[i]->name, name, len))
            return backends[i];
    return NULL;
}

/* Read the configuration back from the ID/config CSRs: the device, not the
 * caller, says what it is. */
static int read_device_config(mxu_device *dev)
{
    static const struct { uint32_t csr; size_t off; } regs[] = {
        {MXU_CSR_ROWS, offsetof(mxu_hw_config, rows)},
        {MXU_CSR_COLS, offsetof(mxu_hw_config, cols)},
        {MXU_CSR_UB_LINES, offsetof(mxu_hw_config, ub_lines)},
        {MXU_CSR_UB_LINE_BYTES, offsetof(mxu_hw_config, ub_line_bytes)},
        {MXU_CSR_ACC_ROWS, offsetof(mxu_hw_config, acc_rows)},
        {MXU_CSR_WB_LINES, offsetof(mxu_hw_config, wb_lines)},
        {MXU_CSR_PARAM_LINES, offsetof(mxu_hw_config, param_lines)},
        {MXU_CSR_DRAM_BYTES, offsetof(mxu_hw_config, dram_bytes)},
        {MXU_CSR_DRAM_BEAT_BYTES, offsetof(mxu_hw_config, dram_beat_bytes)},
        {MXU_CSR_QUEUE_DEPTH, offsetof(mxu_hw_config, queue_depth)},
        {MXU_CSR_TOKEN_MAX, offsetof(mxu_hw_config, token_max)},
    };
    uint32_t id;
    int rc = dev->ops->csr_read(dev->state, MXU_CSR_ID, &id);
    if (rc)
        return rc;
    if (id != MXU_ID_MAGIC)
        return mxu_fail(MXU_ERR_DEVICE, "%s device answers ID 0x%08x, expected 0x%08x",
                        dev->ops->name, id, (unsigned)MXU_ID_MAGIC);
    for (size_t i = 0; i < sizeof regs / sizeof *regs; i++) {
        uint32_t v;
        if ((rc = dev->ops->csr_read(dev->state, regs[i].csr, &v)))
            return rc;
        memcpy((char *)&dev->cfg + regs[i].off, &v, sizeof v);
    }
    return MXU_OK;
}

int mxu_open(const char *uri, mxu_device **out)
{
    *out = NULL;
    if (!uri)
        return mxu_fail(MXU_ERR_INVAL, "no device URI");
    const char *colon = strchr(uri, ':');
    size_t nlen = colon ? (size_t)(colon - uri) : strlen(uri);
    const struct mxu_backend_ops *ops = find_backend(uri, nlen);
    if (!ops)
        return mxu_fail(MXU_ERR_NOT_FOUND, "unknown backend '%.*s' (model, rtl, icarus, usb)", (int)nlen, uri);
    char cfgs[512], opts[512];
    mxu_hw_config want;
    mxu_config_default(&want);
    int rc = split_args(colon ? colon + 1 : "", cfgs, opts, sizeof cfgs);
    if (rc == MXU_OK)
        rc = mxu_config_parse(&want, cfgs);
    if (rc == MXU_OK)
        rc = mxu_config_validate(&want);
    if (rc)
        return rc;
    mxu_device *dev = calloc(1, sizeof *dev);
    if (!dev)
        return mxu_fail(MXU_ERR_NOMEM, "device");
    dev->ops = ops;
    if ((rc = ops->open(&want, opts, &dev->state)) == MXU_OK && (rc = read_device_config(dev)) == MXU_OK) {
        *out = dev;
        return MXU_OK;
    }
    if (dev->state)
        ops->close(dev->state);
    free(dev);
    return rc;
}

void mxu_close(mxu_device *dev)
{
    if (!dev)
        return;
    dev->ops->close(dev->state);
    mxu_heap_clear(&dev->heap);
    free(dev);
}

int mxu_dev_alloc(mxu_device *dev, uint32_t bytes, uint32_t align, uint32_t *addr)
{
    return mxu_heap_alloc(&dev->heap, dev->cfg.dram_bytes, bytes, align, addr);
}

int mxu_dev_free(mxu_device *dev, uint32_t addr)
{
    return mxu_heap_free(&dev->heap, addr);
}

void mxu_dev_mem_usage(mxu_device *dev, uint64_t *used, uint64_t *largest_free)
{
    mxu_heap_usage(&dev->heap, dev->cfg.dram_bytes, used, largest_free);
}

void mxu_dev_mem_release(mxu_device *dev)
{
    mxu_heap_clear(&dev->heap);
}

const mxu_hw_config *mxu_device_config(const mxu_device *dev)
{
    return &dev->cfg;
}

const char *mxu_device_backend(const mxu_device *dev)
{
    return dev->ops->name;
}

int mxu_csr_read(mxu_device *dev, uint32_t offset, uint32_t *value)
{
    return dev->ops->csr_read(dev->state, offset, value);
}

int mxu_csr_write(mxu_device *dev, uint32_t offset, uint32_t value)
{
    return dev->ops->csr_write(dev->state, offset, value);
}

static int check_span(const mxu_device *dev, uint32_t addr, size_t bytes)
{
    if ((uint64_t)addr + bytes > dev->cfg.dram_bytes)
        return mxu_fail(MXU_ERR_RANGE, "DRAM access [0x%x, +%zu) beyond %u bytes", addr, bytes,
                        dev->cfg.dram_bytes);
    return MXU_OK;
}

int mxu_mem_write(mxu_device *dev, uint32_t addr, const void *data, size_t bytes)
{
    int rc = check_span(dev, addr, bytes);
    return rc ? rc : dev->ops->mem_write(dev->state, addr, data, bytes);
}

int mxu_mem_read(mxu_device *dev, uint32_t addr, void *data, size_t bytes)
{
    int rc = check_span(dev, addr, bytes);
    return rc ? rc : dev->ops->mem_read(dev->state, addr, data, bytes);
}

static int read_counter(mxu_device *dev, uint32_t off, uint64_t *v)
{
    uint32_t lo, hi;
    int rc = mxu_csr_read(dev, off, &lo);
    if (rc == MXU_OK)
        rc = mxu_csr_read(dev, off + 4, &hi);
    *v = rc ? 0 : (uint64_t)hi << 32 | lo;
    return rc;
}

int mxu_read_counters(mxu_device *dev, mxu_counters *c)
{
    const struct { uint32_t off; uint64_t *dst; } map[] = {
        {MXU_CNT_CYCLES, &c->cycles},           {MXU_CNT_LOAD_BUSY, &c->load_busy},
        {MXU_CNT_LOAD_WAIT, &c->load_wait},     {MXU_CNT_COMPUTE_BUSY, &c->compute_busy},
        {MXU_CNT_COMPUTE_WAIT, &c->compute_wait}, {MXU_CNT_STORE_BUSY, &c->store_busy},
        {MXU_CNT_STORE_WAIT, &c->store_wait},   {MXU_CNT_ARRAY_VECTORS, &c->array_vectors},
        {MXU_CNT_WEIGHT_STALL, &c->weight_stall}, {MXU_CNT_DRAM_RD_BYTES, &c->dram_rd_bytes},
        {MXU_CNT_DRAM_WR_BYTES, &c->dram_wr_bytes}, {MXU_CNT_INSNS, &c->insns},
        {MXU_CNT_ACT_BUSY, &c->act_busy},
    };
    int rc = MXU_OK;
    for (size_t i = 0; rc == MXU_OK && i < sizeof map / sizeof *map; i++)
        rc = read_counter(dev, map[i].off, map[i].dst);
    if (rc == MXU_OK)
        rc = mxu_csr_read(dev, MXU_CSR_STATUS, &c->status);
    if (rc == MXU_OK)
        rc = mxu_csr_read(dev, MXU_CSR_ERR_CODE, &c->err_code);
    if (rc == MXU_OK)
        rc = mxu_csr_read(dev, MXU_CSR_ERR_PC, &c->err_pc);
    return rc;
}

const char *mxu_device_error_name(uint32_t code)
{
    for (unsigned i = 0; i < mxu_isa_n_errors; i++)
        if (mxu_isa_errors[i].value == code)
            return mxu_isa_errors[i].name;
    return "UNKNOWN";
}

static const char *device_error_text(uint32_t code)
{
    for (unsigned i = 0; i < mxu_isa_n_errors; i++)
        if (mxu_isa_errors[i].value == code)
            return mxu_isa_errors[i].text;
    return "unknown device error";
}

int mxu_run_commands(mxu_device *dev, uint32_t cmd_base, uint32_t count, uint64_t max_cycles,
                     mxu_counters *out)
{
    mxu_counters local;
    mxu_counters *c = out ? out : &local;
    memset(c, 0, sizeof *c);
    int rc = mxu_csr_write(dev, MXU_CSR_CMD_BASE, cmd_base);
    if (rc == MXU_OK)
        rc = mxu_csr_write(dev, MXU_CSR_CMD_COUNT, count);
    if (rc == MXU_OK)
        rc = mxu_csr_write(dev, MXU_CSR_CTRL, MXU_CTRL_START);
    if (rc == MXU_OK)
        rc = dev->ops->wait(dev->state, max_cycles);
    if (rc == MXU_OK)
        rc = mxu_read_counters(dev, c);
    if (rc == MXU_OK && !(c->status & MXU_STATUS_DONE))
        rc = mxu_fail(MXU_ERR_TIMEOUT, "%s device did not finish", dev->ops->name);
    if (rc == MXU_OK && (c->status & MXU_STATUS_ERROR))
        rc = mxu_fail(MXU_ERR_DEVICE, "device stopped with %s (%u: %s) at instruction %u",
                      mxu_device_error_name(c->err_code), c->err_code,
                      device_error_text(c->err_code), c->err_pc);
    return rc;
}

uint64_t mxu_tensor_bytes(const mxu_tensor *t)
{
    return mxu_tensor_elems(t) * mxu_dtype_size(t->dtype);
}

int mxu_program_check_device(const mxu_program *p, const mxu_hw_config *d)
{
    const mxu_hw_config *w = &p->config;
    if (w->rows != d->rows || w->cols != d->cols)
        return mxu_fail(MXU_ERR_CONFIG, "program is built for a %ux%u array, the device has %ux%u "
                        "(recompile with --arch rows=%u,cols=%u, or open the device with %ux%u)",
                        w->rows, w->cols, d->rows, d->cols, d->rows, d->cols, w->rows, w->cols);
    const struct { const char *what; uint32_t need, have; } sizes[] = {
        {"unified buffer lines", w->ub_lines, d->ub_lines},
        {"accumulator rows", w->acc_rows, d->acc_rows},
        {"weight buffer lines", w->wb_lines, d->wb_lines},
        {"parameter lines", w->param_lines, d->param_lines},
        {"DRAM bytes", p->dram_used, d->dram_bytes},
    };
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        if (sizes[i].need > sizes[i].have)
            return mxu_fail(MXU_ERR_CONFIG, "program needs %u %s, the device has %u", sizes[i].need,
                            sizes[i].what, sizes[i].have);
    if (w->ub_lines != d->ub_lines)
        return mxu_fail(MXU_ERR_CONFIG, "program is built for %u unified buffer lines, the device "
                        "has %u", w->ub_lines, d->ub_lines);
    return MXU_OK;
}

int mxu_program_load(mxu_device *dev, const mxu_program *p)
{
    int rc = mxu_program_check_device(p, &dev->cfg);
    for (uint32_t i = 0; rc == MXU_OK && i < p->n_segments; i++)
        rc = mxu_mem_write(dev, p->segments[i].dram_addr, p->segments[i].data, p->segments[i].bytes);
    if (rc == MXU_OK)
        rc = mxu_mem_write(dev, p->code_addr, p->insns, (size_t)p->n_insns * MXU_INSN_BYTES);
    return rc;
}

int mxu_program_run(mxu_device *dev, const mxu_program *p, uint64_t max_cycles, mxu_counters *out)
{
    return mxu_run_commands(dev, p->code_addr, p->n_insns, max_cycles, out);
}

static int tensor_span(const mxu_program *p, uint32_t tensor, size_t bytes, const mxu_tensor **t)
{
    if (tensor >= p->n_tensors)
        return mxu_fail(MXU_ERR_NOT_FOUND, "no tensor %u", tensor);
    *t = &p->tensors[tensor];
    if (bytes != mxu_tensor_bytes(*t))
        return mxu_fail(MXU_ERR_INVAL, "tensor %s holds %llu bytes, not %zu", (*t)->name,
                        (unsigned long long)mxu_tensor_bytes(*t), bytes);
    return MXU_OK;
}

int mxu_tensor_write(mxu_device *dev, const mxu_program *p, uint32_t tensor, const void *data,
                     size_t bytes)
{
    const mxu_tensor *t = NULL;
    int rc = tensor_span(p, tensor, bytes, &t);
    return rc ? rc : mxu_mem_write(dev, t->dram_addr, data, bytes);
}

int mxu_tensor_read(mxu_device *dev, const mxu_program *p, uint32_t tensor, void *data, size_t bytes)
{
    const mxu_tensor *t = NULL;
    int rc = tensor_span(p, tensor, bytes, &t);
    return rc ? rc : mxu_mem_read(dev, t->dram_addr, data, bytes);
}
