/* path: hw/misc/lantern.c */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/error-report.h"

static void lantern_realize(DeviceState *dev, Error **errp)
{
    LanternState *s = LANTERN(dev);

    if (s->bulbs == 0) {
        error_setg(errp, "lantern: needs at least one bulb");
        /* ruleid: qemu-errp-exit */
        exit(1);
    }
    switch (s->mode) {
    case 0:
        break;
    default:
        /* ok: qemu-errp-exit */
        abort();
    }
    if (s->help) {
        lantern_show_help();
        /* ok: qemu-errp-exit */
        exit(0);
    }
    if (s->broken) {
        error_report("lantern: broken");
        /* ruleid: qemu-errp-exit */
        abort();
    }
    if (s->bulbs > 8) {
        /* ok: qemu-errp-exit */
        error_setg(errp, "lantern: at most 8 bulbs, not %u", s->bulbs);
        return;
    }
}

static void lantern_board_init(MachineState *ms)
{
    if (ms->ram_size < 4096) {
        error_report("lantern board: not enough RAM");
        /* ok: qemu-errp-exit */
        exit(1);
    }
}
