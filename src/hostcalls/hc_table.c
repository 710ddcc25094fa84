/* hc_table.c: per-request handle tables (slot arrays that only grow). */
#include "hc_table.h"

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
        uint32_t cap = t->cap ? t->cap * 2 : 16;
        void **objs = realloc(t->objs, cap * sizeof *objs);
        if (!objs)
            return HC_HANDLE_INVALID;
        t->objs = objs;
        uint8_t *kinds = realloc(t->kinds, cap);
        if (!kinds)
            return HC_HANDLE_INVALID;
        t->kinds = kinds;
        t->cap = cap;
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
