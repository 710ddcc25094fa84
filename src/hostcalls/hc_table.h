/* hc_table.h: a per-request handle table: the small integers a guest holds name slots of this
 * table, each with a kind tag and an owned object. Handles are never reused within a request, so
 * a stale handle stays invalid (badf) instead of naming a newer object. */
#ifndef HC_TABLE_H
#define HC_TABLE_H

#include <stdbool.h>
#include <stdint.h>

/* Most handles one table hands out per request (then `limitexceeded`). */
#define HC_TABLE_MAX 65536u
/* Returned by hc_table_add when full or out of memory. */
#define HC_HANDLE_INVALID 0xFFFFFFFFu

typedef struct hc_table {
    void **objs;
    uint8_t *kinds; /* 0 = free slot */
    uint32_t n, cap;
} hc_table;

void hc_table_init(hc_table *t);
/* Frees the table's arrays; the objects must have been released by the owner first. */
void hc_table_deinit(hc_table *t);

/* Stores `obj` under a new handle with `kind` (non-zero). Returns HC_HANDLE_INVALID when the
 * table is full (HC_TABLE_MAX) or out of memory. */
uint32_t hc_table_add(hc_table *t, uint8_t kind, void *obj);
/* The object of `handle` when it is live and of `kind` (0: any kind), else NULL. */
void *hc_table_get(const hc_table *t, uint32_t handle, uint8_t kind);
/* The kind of a live handle, 0 if not live. */
uint8_t hc_table_kind(const hc_table *t, uint32_t handle);
/* Like hc_table_get, and frees the slot (the caller now owns the object). */
void *hc_table_take(hc_table *t, uint32_t handle, uint8_t kind);
/* Changes the kind of a live handle. */
void hc_table_set_kind(hc_table *t, uint32_t handle, uint8_t kind);

#endif
