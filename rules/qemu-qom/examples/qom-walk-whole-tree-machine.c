/* path: hw/i386/acpi-build.c */
/* Machine (ACPI-building) code walks the whole tree too: reported since issue 13 item 3. */
#include "qemu/osdep.h"
#include "hw/acpi/aml-build.h"
#include "hw/mem/pc-dimm.h"

static int srat_dimm_entry(Object *obj, void *opaque)
{
    GArray *table_data = opaque;

    if (!object_dynamic_cast(obj, TYPE_PC_DIMM)) {
        return 0;
    }
    build_srat_memory(table_data, 0, 0, 0, MEM_AFFINITY_ENABLED);
    return 0;
}

static int count_child(Object *obj, void *opaque)
{
    (*(unsigned *)opaque)++;
    return 0;
}

void build_srat_dimms(GArray *table_data, MachineState *machine)
{
    unsigned n = 0;

    acpi_table_begin(NULL, table_data);
    /* ruleid: qom-walk-whole-tree */
    object_child_foreach_recursive(OBJECT(machine), srat_dimm_entry, table_data);
    /* ok: qom-walk-whole-tree */
    object_child_foreach_recursive(OBJECT(machine), count_child, &n);
    /* ok: qom-walk-whole-tree */
    object_child_foreach_recursive(OBJECT(machine->fw_cfg), srat_dimm_entry, table_data);
}
