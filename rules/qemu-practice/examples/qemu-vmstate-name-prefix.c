/* path: hw/misc/lantern.c */
#include "qemu/osdep.h"
#include "migration/vmstate.h"

static const VMStateDescription vmstate_lantern = {
    /* ruleid: qemu-vmstate-name-prefix */
    .name = "vmstate_lantern",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(lit, LanternState),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_lamp = {
    /* ok: qemu-vmstate-name-prefix */
    .name = "lamp",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(lit, LampState),
        VMSTATE_END_OF_LIST()
    },
};
