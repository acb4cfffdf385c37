/* path: hw/misc/lantern-board.c */
#include "qemu/osdep.h"
#include "hw/boards.h"
#include "hw/mem/pc-dimm.h"

static void lantern_board_plug(HotplugHandler *hotplug_dev, DeviceState *dev, Error **errp)
{
    /* ruleid: qemu-get-machine-in-machine-hotplug */
    MachineState *ms = MACHINE(qdev_get_machine());

    pc_dimm_plug(PC_DIMM(dev), ms);
}

static void lantern_board_unplug(HotplugHandler *hotplug_dev, DeviceState *dev, Error **errp)
{
    /* ok: qemu-get-machine-in-machine-hotplug */
    MachineState *ms = MACHINE(hotplug_dev);

    pc_dimm_unplug(PC_DIMM(dev), ms);
}

static HotplugHandler *lantern_board_get_hotplug_handler(MachineState *machine,
                                                         DeviceState *dev)
{
    return HOTPLUG_HANDLER(machine);
}

static void lantern_board_class_init(ObjectClass *oc, void *data)
{
    MachineClass *mc = MACHINE_CLASS(oc);
    HotplugHandlerClass *hc = HOTPLUG_HANDLER_CLASS(oc);

    mc->get_hotplug_handler = lantern_board_get_hotplug_handler;
    hc->plug = lantern_board_plug;
    hc->unplug = lantern_board_unplug;
}

static const TypeInfo lantern_board_info = {
    .name = MACHINE_TYPE_NAME("lantern"),
    .parent = TYPE_MACHINE,
    .class_init = lantern_board_class_init,
    .interfaces = (InterfaceInfo[]) {
        { TYPE_HOTPLUG_HANDLER },
        { }
    },
};

static void lantern_board_register(void)
{
    type_register_static(&lantern_board_info);
}

type_init(lantern_board_register)
