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
    /* ok: qemu-review-history-comment */
    /* Keep the colour as requested by the user; in this version it is 8 bits. */
    /* ruleid: qemu-review-history-comment */
    /* Changed in v3: clamp the value */
    s->shadow = val & 0xff;
}
