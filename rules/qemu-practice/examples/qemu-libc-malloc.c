/* path: hw/misc/lantern.c */
#include "qemu/osdep.h"

static void lantern_name(LanternState *s, const char *name)
{
    /* ruleid: qemu-libc-malloc */
    s->name = strdup(name);
    /* ok: qemu-libc-malloc */
    s->label = g_strdup(name);
    /* ok: qemu-libc-malloc */
    free(lantern_backend_name(s));
}
