/* path: backends/param-table.c */
#include "qemu/osdep.h"
#include "qemu/queue.h"
#include "qapi/error.h"

typedef struct ParamEntry {
    uint32_t index;
    uint32_t size;
    uint8_t *data;
    QTAILQ_ENTRY(ParamEntry) next;
} ParamEntry;

typedef struct ParamTable {
    QTAILQ_HEAD(, ParamEntry) entries;
    uint32_t nr_cpus;
} ParamTable;

static int param_table_set_cpus(ParamTable *t, uint32_t index)
{
    ParamEntry *e;

    QTAILQ_FOREACH(e, &t->entries, next)
    {
        if (e->index == index) {
            memcpy(e->data, &t->nr_cpus, sizeof(t->nr_cpus));
            break;
        }
    }
    return 0;
}

static int param_table_clear(ParamTable *t, uint32_t index)
{
    ParamEntry *e;

    QTAILQ_FOREACH(e, &t->entries, next)
    {
        if (e->index == index) {
            memset(e->data, 0, e->size);
            break;
        }
    }
    return 0;
}

static int param_table_fill(ParamTable *t, uint32_t index, const void *blob,
                            size_t len, Error **errp)
{
    ParamEntry *e;

    /* ruleid: code-repeated-lookup */
    QTAILQ_FOREACH(e, &t->entries, next)
    {
        if (e->index == index) {
            if (len > e->size) {
                error_setg(errp, "blob does not fit parameter area %u", index);
                return -1;
            }
            memcpy(e->data, blob, len);
            break;
        }
    }
    return 0;
}

static void param_table_free_all(ParamTable *t)
{
    ParamEntry *e, *tmp;

    /* ok: code-repeated-lookup */
    QTAILQ_FOREACH_SAFE(e, &t->entries, next, tmp) {
        if (e->data) {
            g_free(e->data);
        }
    }
}

static uint32_t param_table_total(ParamTable *t)
{
    ParamEntry *e;
    uint32_t total = 0;

    /* ok: code-repeated-lookup */
    QTAILQ_FOREACH(e, &t->entries, next) {
        if (e->index == 0) {
            break;
        }
        total += e->size;
    }
    return total;
}
