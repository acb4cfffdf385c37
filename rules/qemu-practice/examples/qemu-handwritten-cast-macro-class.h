/* path: include/hw/misc/prism.h */
#ifndef HW_MISC_PRISM_H
#define HW_MISC_PRISM_H

#include "qom/object.h"

/* An abstract base whose instances are cast by its subtypes: only class macros here. */
#define TYPE_PRISM "prism"
/* ruleid: qemu-handwritten-cast-macro */
#define PRISM_CLASS(klass) OBJECT_CLASS_CHECK(PrismClass, (klass), TYPE_PRISM)
/* ruleid: qemu-handwritten-cast-macro */
#define PRISM_GET_CLASS(obj) OBJECT_GET_CLASS(PrismClass, (obj), TYPE_PRISM)

#endif
