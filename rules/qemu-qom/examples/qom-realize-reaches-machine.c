/* path: hw/misc/lamp-panel.c */
/* A made-up device: realize picks its bank through a helper that asks the machine. */
#include "qemu/osdep.h"
#include "hw/boards.h"
#include "hw/qdev-core.h"

static int lamp_panel_pick_bank(LampPanelState *s)
{
    MachineState *ms = MACHINE(qdev_get_machine());

    return ms->smp.cpus % 4;
}

static void lamp_panel_realize(DeviceState *dev, Error **errp)
{
    LampPanelState *s = LAMP_PANEL(dev);

    s->lit = false;
    /* ruleid: qom-realize-reaches-machine */
    s->bank = lamp_panel_pick_bank(s);
}

static void lamp_panel_unrealize(DeviceState *dev)
{
    LampPanelState *s = LAMP_PANEL(dev);

    /* ok: qom-realize-reaches-machine */
    s->lit = false;
}

/* Not reached from realize or unrealize: the reset path is not what this rule is about. */
static void lamp_panel_reset_hold(Object *obj, ResetType type)
{
    /* ok: qom-realize-reaches-machine */
    lamp_panel_pick_bank(LAMP_PANEL(obj));
}

static void lamp_panel_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);
    ResettableClass *rc = RESETTABLE_CLASS(oc);

    dc->realize = lamp_panel_realize;
    dc->unrealize = lamp_panel_unrealize;
    rc->phases.hold = lamp_panel_reset_hold;
}

static const TypeInfo lamp_panel_info = {
    .name = TYPE_LAMP_PANEL,
    .parent = TYPE_DEVICE,
    .instance_size = sizeof(LampPanelState),
    .class_init = lamp_panel_class_init,
};

static void lamp_panel_register_types(void)
{
    type_register_static(&lamp_panel_info);
}

type_init(lamp_panel_register_types)
