/* path: hw/misc/tally-counter.c */
#include "qemu/osdep.h"
#include "qemu/queue.h"
#include "hw/qdev-core.h"

/* ruleid: qom-device-global-state */
static QTAILQ_HEAD(, TallyCounterState) tally_counters =
    QTAILQ_HEAD_INITIALIZER(tally_counters);

/* ruleid: qom-device-global-state */
static GSList *tally_pending;

/* ok: qom-device-global-state */
static const uint32_t tally_limits[] = { 10, 100, 1000 };

/* ok: qom-device-global-state */
static unsigned tally_instances;

static void tally_counter_realize(DeviceState *dev, Error **errp)
{
    TallyCounterState *s = TALLY_COUNTER(dev);

    tally_instances++;
    QTAILQ_INSERT_TAIL(&tally_counters, s, next);
    tally_pending = g_slist_prepend(tally_pending, s);
}

static void tally_counter_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    dc->realize = tally_counter_realize;
}

static const TypeInfo tally_counter_info = {
    .name = TYPE_TALLY_COUNTER,
    .parent = TYPE_DEVICE,
    .instance_size = sizeof(TallyCounterState),
    .class_init = tally_counter_class_init,
};

static void tally_counter_register_types(void)
{
    type_register_static(&tally_counter_info);
}

type_init(tally_counter_register_types)
