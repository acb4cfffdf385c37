/* path: hw/misc/lantern.c */
#include "qemu/osdep.h"
#include "qemu/log.h"

static uint64_t lantern_read(void *opaque, hwaddr addr, unsigned size)
{
    switch (addr) {
    case 0:
        return 1;
    default:
        /* ruleid: qemu-printf-in-device */
        fprintf(stderr, "lantern: bad read at 0x%" HWADDR_PRIx "\n", addr);
        /* ok: qemu-printf-in-device */
        qemu_log_mask(LOG_GUEST_ERROR, "lantern: bad read at 0x%" HWADDR_PRIx "\n", addr);
        return 0;
    }
}

static void lantern_dump(LanternState *s, FILE *f)
{
    /* ok: qemu-printf-in-device */
    fprintf(f, "lantern: %u bulbs\n", s->bulbs);
}
