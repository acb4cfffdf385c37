/* path: net/filter-tally.c */
/* A user-creatable object outside hw/ (a netdev filter): issue 13 item 7. */
#include "qemu/osdep.h"
#include "net/filter.h"
#include "qom/object_interfaces.h"

/* ruleid: qom-device-global-state */
static QLIST_HEAD(, FilterTallyState) filter_tallies =
    QLIST_HEAD_INITIALIZER(filter_tallies);

/* ok: qom-device-global-state */
static const char *const tally_modes[] = { "rx", "tx" };

/* ok: qom-device-global-state */
extern GSList *filter_tally_shared;

static void filter_tally_setup(NetFilterState *nf, Error **errp)
{
    FilterTallyState *s = FILTER_TALLY(nf);
    /* ok: qom-device-global-state */
    static GSList *seen;

    seen = g_slist_prepend(seen, s);
    QLIST_INSERT_HEAD(&filter_tallies, s, next);
}

static void filter_tally_class_init(ObjectClass *oc, void *data)
{
    NetFilterClass *nfc = NETFILTER_CLASS(oc);

    nfc->setup = filter_tally_setup;
}

static const TypeInfo filter_tally_info = {
    .name = TYPE_FILTER_TALLY,
    .parent = TYPE_NETFILTER,
    .class_init = filter_tally_class_init,
    .instance_size = sizeof(FilterTallyState),
};

static void filter_tally_register_types(void)
{
    type_register_static(&filter_tally_info);
}

type_init(filter_tally_register_types);
