/* path: hw/misc/lantern.c */
#include "qemu/osdep.h"
#include "hw/sysbus.h"

/* ruleid: qemu-unused-new-function */
void lantern_set_colour(LanternState *s, unsigned colour)
{
    s->colour = colour;
}

/* ok: qemu-unused-new-function */
void lantern_switch(LanternState *s, bool on)
{
    s->lit = on;
}

static void lantern_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    lantern_switch(opaque, val & 1);
}
