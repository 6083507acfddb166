/* The `model` backend: the C model of sim/model behind the backend table. The
 * model runs a program to completion inside the CTRL.start write, so wait()
 * has nothing left to do. */
#include "mxu_backend.h"
#include "mxu_error.h"
#include "mxu_model.h"

static int model_open(const mxu_hw_config *cfg, const char *options, void **state)
{
    mxu_model *m;
    int rc = mxu_model_create(cfg, options, &m);
    *state = rc ? NULL : m;
    return rc;
}

static void model_close(void *state)
{
    mxu_model_destroy(state);
}

static int model_csr_read(void *state, uint32_t offset, uint32_t *value)
{
    return mxu_model_csr_read(state, offset, value);
}

static int model_csr_write(void *state, uint32_t offset, uint32_t value)
{
    return mxu_model_csr_write(state, offset, value);
}

static int model_mem_write(void *state, uint32_t addr, const void *data, size_t bytes)
{
    return mxu_model_mem_write(state, addr, data, bytes);
}

static int model_mem_read(void *state, uint32_t addr, void *data, size_t bytes)
{
    return mxu_model_mem_read(state, addr, data, bytes);
}

static int model_wait(void *state, uint64_t max_cycles)
{
    (void)state;
    (void)max_cycles;
    return MXU_OK;
}

const struct mxu_backend_ops mxu_backend_model = {
    .name = "model",
    .open = model_open,
    .close = model_close,
    .csr_read = model_csr_read,
    .csr_write = model_csr_write,
    .mem_write = model_mem_write,
    .mem_read = model_mem_read,
    .wait = model_wait,
};
