/* hc_async_io.h: the fastly_async_io module (select with timeout, is_ready). */
#ifndef HC_ASYNC_IO_H
#define HC_ASYNC_IO_H

#include "hostcalls/hc_registry.h"

extern const hc_impl hc_async_io_impls[];

#endif
