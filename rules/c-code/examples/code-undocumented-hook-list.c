/* path: system/boot-hooks.c */
#include "qemu/osdep.h"
#include "qemu/notify.h"

/* ok: code-undocumented-hook-list */
static NotifierList boot_done_notifiers =
    NOTIFIER_LIST_INITIALIZER(boot_done_notifiers);

/* ruleid: code-undocumented-hook-list */
static NotifierList boot_done_late_notifiers =
    NOTIFIER_LIST_INITIALIZER(boot_done_late_notifiers);

/*
 * Run once the boot_done notifiers have all run: firmware tables may be read
 * here, as every device has added its memory by then.
 */
/* ok: code-undocumented-hook-list */
static NotifierList boot_done_final_notifiers =
    NOTIFIER_LIST_INITIALIZER(boot_done_final_notifiers);

/* ok: code-undocumented-hook-list */
static NotifierList power_button_notifiers =
    NOTIFIER_LIST_INITIALIZER(power_button_notifiers);

void qemu_add_boot_done_notifier(Notifier *notify)
{
    notifier_list_add(&boot_done_notifiers, notify);
}

void qemu_add_boot_done_late_notifier(Notifier *notify)
{
    notifier_list_add(&boot_done_late_notifiers, notify);
}

void qemu_add_boot_done_final_notifier(Notifier *notify)
{
    notifier_list_add(&boot_done_final_notifiers, notify);
}

void qemu_add_power_button_notifier(Notifier *notify)
{
    notifier_list_add(&power_button_notifiers, notify);
}
