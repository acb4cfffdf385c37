/* A made-up DIMM that the board below plugs. */
#include "qemu/osdep.h"
#include "hw/mem/memory-device.h"

void brick_dimm_pre_plug(DeviceState *dev, MachineState *machine, Error **errp)
{
    memory_device_pre_plug(MEMORY_DEVICE(dev), machine, errp);
}

static const TypeInfo brick_dimm_info = {
    .name = TYPE_BRICK_DIMM,
    .parent = TYPE_DEVICE,
    .interfaces = (InterfaceInfo[]) {
        { TYPE_MEMORY_DEVICE },
        { }
    },
};
