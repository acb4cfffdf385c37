/* path: hw/arm/lantern-board.c */
#include "qemu/osdep.h"
#include "hw/sysbus.h"
#include "hw/block/flash.h"

static void lantern_board_init(MachineState *machine)
{
    /* ruleid: qemu-type-name-literal */
    DeviceState *flash = qdev_new("cfi.pflash01");
    /* ok: qemu-type-name-literal */
    DeviceState *flash2 = qdev_new(TYPE_PFLASH_CFI01);

    sysbus_realize_and_unref(SYS_BUS_DEVICE(flash), &error_fatal);
    sysbus_realize_and_unref(SYS_BUS_DEVICE(flash2), &error_fatal);
}
