/* path: hw/misc/lantern.c */
#include "qemu/osdep.h"

static void lantern_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    LanternState *s = opaque;

    /* ruleid: qemu-review-history-comment */
    /* Mask the value as suggested by Peter in review */
    s->reg = val & 0xff;
    /* ok: qemu-review-history-comment */
    /* Only the low byte is implemented; the rest reads as zero. */
    s->shadow = val & 0xff;
}
