/* path: backends/lantern-backend.c */
#include "qemu/osdep.h"
#include "qom/object.h"

/* ruleid: qemu-qom-file-static-state */
static int lantern_open_count;

/* ok: qemu-qom-file-static-state */
static const char *const lantern_colours[] = { "red", "green" };

static void lantern_backend_init(Object *obj)
{
    lantern_open_count++;
}

static const TypeInfo lantern_backend_info = {
    .name = "lantern-backend",
    .parent = TYPE_OBJECT,
    .instance_size = sizeof(LanternBackend),
    .instance_init = lantern_backend_init,
};

static void lantern_backend_register(void)
{
    type_register_static(&lantern_backend_info);
}

type_init(lantern_backend_register)

/* ok: qemu-qom-file-static-state */
static LanternModel lantern_model = {
    .name = "lantern",
};
