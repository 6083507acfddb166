/* --fault specs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "mxu_link.h"

static const struct {
    enum fault_kind kind;
    const char *name;
    uint64_t after; /* default trigger */
} kinds[] = {
    {FAULT_UNPLUG, "unplug", 512},       {FAULT_STALL, "stall", 512},
    {FAULT_STALL_OUT, "stall-out", 512}, {FAULT_CORRUPT, "corrupt", 16},
    {FAULT_CORRUPT_OUT, "corrupt-out", 16}, {FAULT_DEVICE_ERROR, "device-error", 512},
    {FAULT_HANG, "hang", 512},
};

const char *fault_name(enum fault_kind kind)
{
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (kinds[i].kind == kind)
            return kinds[i].name;
    return "none";
}

static int parse_number(const char *s, uint64_t *v)
{
    char *end;
    if (!*s || *s == '-')
        return -1;
    *v = strtoull(s, &end, 0);
    return *end ? -1 : 0;
}

int fault_parse(const char *spec, struct fault *f, char *err, size_t len)
{
    memset(f, 0, sizeof *f);
    f->code = MXU_LINK_ERR_ADDRESS;
    size_t n = strcspn(spec, ",");
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (strlen(kinds[i].name) == n && !strncmp(kinds[i].name, spec, n)) {
            f->kind = kinds[i].kind;
            f->after = kinds[i].after;
        }
    if (f->kind == FAULT_NONE) {
        snprintf(err, len, "unknown fault '%.*s' (unplug, stall, stall-out, corrupt, corrupt-out, device-error, hang)",
                 (int)n, spec);
        return -1;
    }
    for (const char *p = spec + n; *p;) {
        p++; /* the comma */
        char item[64];
        size_t k = strcspn(p, ",");
        snprintf(item, sizeof item, "%.*s", (int)(k < sizeof item ? k : sizeof item - 1), p);
        p += k;
        uint64_t v;
        char *eq = strchr(item, '=');
        if (!eq || parse_number(eq + 1, &v)) {
            snprintf(err, len, "fault option '%s' is not KEY=NUMBER", item);
            return -1;
        }
        *eq = 0;
        if (!strcmp(item, "after"))
            f->after = v;
        else if (!strcmp(item, "every") && (f->kind == FAULT_CORRUPT || f->kind == FAULT_CORRUPT_OUT))
            f->every = v;
        else if (!strcmp(item, "code") && f->kind == FAULT_DEVICE_ERROR && v >= 1 && v <= 255)
            f->code = (unsigned)v;
        else {
            snprintf(err, len, "fault %s has no option '%s' (after=BYTES%s)", fault_name(f->kind), item,
                     f->kind == FAULT_CORRUPT || f->kind == FAULT_CORRUPT_OUT ? ", every=BYTES"
                     : f->kind == FAULT_DEVICE_ERROR                        ? ", code=1..255"
                                                                             : "");
            return -1;
        }
    }
    return 0;
}

int fault_corrupts(const struct fault *f, int to_host, uint64_t pos)
{
    if (f->kind != (to_host ? FAULT_CORRUPT : FAULT_CORRUPT_OUT) || pos < f->after)
        return 0;
    return pos == f->after || (f->every && (pos - f->after) % f->every == 0);
}
