/* srv_fastlike.h: server-internal access to the fastlike object of include/fastlike.h (for tests
 * and the layers that need the live guest rather than the public API). */
#ifndef SRV_FASTLIKE_H
#define SRV_FASTLIKE_H

#include "fastlike.h"
#include "server/srv_live.h"

/* The guest now serving (take a reference with srv_live_acquire). */
srv_live *srv_fastlike_live(fastlike *f);

#endif
