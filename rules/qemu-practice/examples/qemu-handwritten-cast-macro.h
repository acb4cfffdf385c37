/* path: include/hw/misc/lantern.h */
#ifndef HW_MISC_LANTERN_H
#define HW_MISC_LANTERN_H

#include "hw/sysbus.h"
#include "qom/object.h"

#define TYPE_LANTERN "lantern"
/* ruleid: qemu-handwritten-cast-macro */
#define LANTERN(obj) OBJECT_CHECK(LanternState, (obj), TYPE_LANTERN)

#define TYPE_BEACON "beacon"
/* ruleid: qemu-handwritten-cast-macro */
#define BEACON(obj) OBJECT_CHECK(BeaconState, (obj), TYPE_BEACON)
/* ok: qemu-handwritten-cast-macro */
#define BEACON_CLASS(klass) OBJECT_CLASS_CHECK(BeaconClass, (klass), TYPE_BEACON)
/* ok: qemu-handwritten-cast-macro */
#define BEACON_GET_CLASS(obj) OBJECT_GET_CLASS(BeaconClass, (obj), TYPE_BEACON)

#define TYPE_LAMP "lamp"
/* ok: qemu-handwritten-cast-macro */
OBJECT_DECLARE_SIMPLE_TYPE(LampState, LAMP)

#endif
