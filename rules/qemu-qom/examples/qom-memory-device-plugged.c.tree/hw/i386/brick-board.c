/* A made-up board whose pre_plug handler plugs brick DIMMs and nothing else. */
#include "qemu/osdep.h"
#include "hw/boards.h"

static void brick_board_pre_plug(HotplugHandler *hotplug_dev, DeviceState *dev,
                                 Error **errp)
{
    if (object_dynamic_cast(OBJECT(dev), TYPE_BRICK_DIMM)) {
        brick_dimm_pre_plug(dev, MACHINE(hotplug_dev), errp);
    }
}

static void brick_board_class_init(ObjectClass *oc, void *data)
{
    HotplugHandlerClass *hc = HOTPLUG_HANDLER_CLASS(oc);

    hc->pre_plug = brick_board_pre_plug;
}

static const TypeInfo brick_board_info = {
    .name = TYPE_BRICK_BOARD,
    .parent = TYPE_MACHINE,
    .class_init = brick_board_class_init,
};
