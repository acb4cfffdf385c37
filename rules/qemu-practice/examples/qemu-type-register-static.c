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
