/* hc_table.c: per-request handle tables (slot arrays that only grow). */
#include "hc_table.h"
#include "util/util_grow.h"

#include <stdlib.h>

void hc_table_init(hc_table *t)
{
    t->objs = NULL;
    t->kinds = NULL;
    t->n = t->cap = 0;
}

void hc_table_deinit(hc_table *t)
{
    if (!t)
        return;
    free(t->objs);
    free(t->kinds);
    hc_table_init(t);
}

uint32_t hc_table_add(hc_table *t, uint8_t kind, void *obj)
{
    if (t->n >= HC_TABLE_MAX)
        return HC_HANDLE_INVALID;
    if (t->n == t->cap) {
        size_t objs_cap = t->cap, kinds_cap = t->cap; /* two arrays, one capacity */
        if (!util_grow((void **)&t->objs, &objs_cap, t->n + 1, 16, sizeof *t->objs) ||
            !util_grow((void **)&t->kinds, &kinds_cap, t->n + 1, 16, sizeof *t->kinds))
            return HC_HANDLE_INVALID;
        t->cap = (uint32_t)objs_cap;
    }
    t->objs[t->n] = obj;
    t->kinds[t->n] = kind;
    return t->n++;
}

void *hc_table_get(const hc_table *t, uint32_t handle, uint8_t kind)
{
    if (handle >= t->n || t->kinds[handle] == 0)
        return NULL;
    if (kind != 0 && t->kinds[handle] != kind)
        return NULL;
    return t->objs[handle];
}

uint8_t hc_table_kind(const hc_table *t, uint32_t handle)
{
    return handle < t->n ? t->kinds[handle] : 0;
}

void *hc_table_take(hc_table *t, uint32_t handle, uint8_t kind)
{
    void *obj = hc_table_get(t, handle, kind);
    if (obj) {
        t->objs[handle] = NULL;
        t->kinds[handle] = 0;
    }
    return obj;
}

void hc_table_set_kind(hc_table *t, uint32_t handle, uint8_t kind)
{
    if (handle < t->n && t->kinds[handle] != 0)
        t->kinds[handle] = kind;
}
