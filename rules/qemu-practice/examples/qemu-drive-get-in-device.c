/* path: hw/sd/lantern-sdhci.c */
#include "qemu/osdep.h"
#include "hw/sysbus.h"
#include "system/blockdev.h"

static void lantern_sdhci_realize(DeviceState *dev, Error **errp)
{
    LanternSDHCIState *s = LANTERN_SDHCI(dev);
    /* ruleid: qemu-drive-get-in-device */
    DriveInfo *di = drive_get(IF_SD, 0, 0);

    /* ok: qemu-drive-get-in-device */
    lantern_sdhci_attach(s, s->blk);
}

static void lantern_sdhci_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->realize = lantern_sdhci_realize;
}

static const TypeInfo lantern_sdhci_info = {
    .name = "lantern-sdhci",
    .parent = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(LanternSDHCIState),
    .class_init = lantern_sdhci_class_init,
};

static void lantern_sdhci_register(void)
{
    type_register_static(&lantern_sdhci_info);
}

type_init(lantern_sdhci_register)
