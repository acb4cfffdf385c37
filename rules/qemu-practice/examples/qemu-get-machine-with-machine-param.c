/* path: hw/misc/lantern-board.c */
#include "qemu/osdep.h"
#include "hw/boards.h"

static void lantern_board_init(MachineState *machine)
{
    /* ruleid: qemu-get-machine-with-machine-param */
    LanternMachineState *lms = LANTERN_MACHINE(qdev_get_machine());

    lms->ram = machine->ram;
}

static void lantern_board_helper(void)
{
    /* ok: qemu-get-machine-with-machine-param */
    MachineState *ms = MACHINE(qdev_get_machine());

    ms->smp.cpus = 1;
}
