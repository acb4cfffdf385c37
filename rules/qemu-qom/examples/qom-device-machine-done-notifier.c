/* path: hw/misc/boot-chime.c */
#include "qemu/osdep.h"
#include "hw/qdev-core.h"
#include "system/system.h"

static void boot_chime_ready(Notifier *n, void *opaque)
{
    BootChimeState *s = container_of(n, BootChimeState, ready);

    s->armed = true;
}

static void boot_chime_vm_state(void *opaque, bool running, RunState state)
{
    BootChimeState *s = opaque;

    s->running = running;
}

static void boot_chime_realize(DeviceState *dev, Error **errp)
{
    BootChimeState *s = BOOT_CHIME(dev);

    s->ready.notify = boot_chime_ready;
    /* ruleid: qom-device-machine-done-notifier */
    qemu_add_machine_init_done_notifier(&s->ready);
    /* ok: qom-device-machine-done-notifier */
    qemu_add_vm_change_state_handler(boot_chime_vm_state, s);
}

static void boot_chime_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    dc->realize = boot_chime_realize;
}

static const TypeInfo boot_chime_info = {
    .name = TYPE_BOOT_CHIME,
    .parent = TYPE_DEVICE,
    .instance_size = sizeof(BootChimeState),
    .class_init = boot_chime_class_init,
};

static void boot_chime_register_types(void)
{
    type_register_static(&boot_chime_info);
}

type_init(boot_chime_register_types)
