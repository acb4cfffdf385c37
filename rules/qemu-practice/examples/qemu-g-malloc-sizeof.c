/* path: hw/misc/lantern.c */
#include "qemu/osdep.h"

static void lantern_alloc(LanternState *s, unsigned n)
{
    /* ruleid: qemu-g-malloc-sizeof */
    s->bulbs = g_malloc0(n * sizeof(LanternBulb));
    /* ruleid: qemu-g-malloc-sizeof */
    s->frame = g_malloc(sizeof(LanternFrame));
    /* ok: qemu-g-malloc-sizeof */
    s->shade = g_malloc0(sizeof(*s->shade));
    /* ok: qemu-g-malloc-sizeof */
    s->glass = g_new0(LanternGlass, n);
}
