/* path: hw/misc/lantern.c */
#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/error-report.h"

static uint64_t lantern_read(void *opaque, hwaddr addr, unsigned size)
{
    LanternState *s = opaque;

    switch (addr) {
    case 0:
        return s->lit;
    default:
        /* ruleid: qemu-guest-error-report */
        error_report("lantern: bad read offset 0x%" HWADDR_PRIx, addr);
        return 0;
    }
}

static void lantern_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    switch (addr) {
    case 0:
        break;
    default:
        /* ok: qemu-guest-error-report */
        qemu_log_mask(LOG_GUEST_ERROR, "lantern: bad write offset 0x%" HWADDR_PRIx "\n", addr);
    }
    if (lantern_backend_write(opaque, val) < 0) {
        /* ok: qemu-guest-error-report */
        error_report("lantern: backend write failed");
    }
}

static void lantern_realize(DeviceState *dev, Error **errp)
{
    /* ok: qemu-guest-error-report */
    error_report("lantern: deprecated, use lamp");
}
