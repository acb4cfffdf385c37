/* path: hw/net/lantern-nic.c */
#include "qemu/osdep.h"

/* ruleid: qemu-reserved-identifier */
static ssize_t _lantern_receive(LanternNicState *s, const uint8_t *buf, size_t size)
{
    return size;
}

/* ok: qemu-reserved-identifier */
static ssize_t lantern_receive_one(LanternNicState *s, const uint8_t *buf, size_t size)
{
    return _lantern_receive(s, buf, size);
}
