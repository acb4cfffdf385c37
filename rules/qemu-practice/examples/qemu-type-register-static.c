/* path: hw/misc/lantern.c */
#include "qemu/osdep.h"
#include "hw/sysbus.h"

static const TypeInfo lantern_info = {
    .name = "lantern",
    .parent = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(LanternState),
};

static void lantern_register_types(void)
{
    /* ruleid: qemu-type-register-static */
    type_register_static(&lantern_info);
}

type_init(lantern_register_types)

static void lantern_register_models(void)
{
    int i;

    for (i = 0; i < ARRAY_SIZE(lantern_models); i++) {
        /* ok: qemu-type-register-static */
        type_register_static(&lantern_models[i]);
    }
}

type_init(lantern_register_models)

static const TypeInfo lamp_info = {
    .name = "lamp",
    .parent = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(LampState),
};

static const TypeInfo torch_info = {
    .name = "torch",
    .parent = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(TorchState),
};

static void lamp_register_types(void)
{
    /* ruleid: qemu-type-register-static */
    type_register_static(&lamp_info);
    /* ok: qemu-type-register-static */
    type_register_static(&torch_info);
}

type_init(lamp_register_types)
