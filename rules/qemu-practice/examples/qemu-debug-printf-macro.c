/* path: hw/misc/lantern.c */
#include "qemu/osdep.h"
#include "trace.h"

#define DEBUG_LANTERN 0

/* ruleid: qemu-debug-printf-macro */
#define DPRINTF(fmt, ...) do { \
    if (DEBUG_LANTERN) { \
        fprintf(stderr, "lantern: " fmt, ## __VA_ARGS__); \
    } \
} while (0)

/* ok: qemu-debug-printf-macro */
#define LANTERN_REG(s, r) ((s)->regs[(r) >> 2])

static void lantern_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    trace_lantern_write(addr, val);
}
