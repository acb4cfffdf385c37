/* path: hw/misc/window-dev.c */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/qdev-core.h"
#include "system/hostmem.h"

typedef struct WindowDevState {
    DeviceState parent_obj;
    MemoryRegion container;
    HostMemoryBackend *hostmem;
    uint64_t base;
    uint64_t size;
    uint64_t addr;
    unsigned nr_maps;
    unsigned generation;
} WindowDevState;

static void window_dev_realize(DeviceState *dev, Error **errp)
{
    WindowDevState *s = WINDOW_DEV(dev);
    MemoryRegion *mr;

    if (!s->hostmem) {
        error_setg(errp, "'memdev' property is not set");
        return;
    }
    mr = host_memory_backend_get_memory(s->hostmem);
    s->addr = s->base + s->size;
    memory_region_add_subregion(&s->container, s->addr - s->base, mr);
    host_memory_backend_set_mapped(s->hostmem, true);
    s->nr_maps++;
    s->size += memory_region_size(mr);
    s->generation++;
    if (s->nr_maps > 1) {
        trace_window_dev_shared(s->addr, s->nr_maps);
    }
    trace_window_dev_mapped(s->addr, s->size);
}

static void window_dev_reset(void *opaque)
{
    WindowDevState *s = opaque;
    MemoryRegion *mr;

    memory_region_del_subregion(&s->container,
                                host_memory_backend_get_memory(s->hostmem));
    s->size = 0;
    s->nr_maps = 0;

    /* ruleid: code-copied-statements */
    mr = host_memory_backend_get_memory(s->hostmem);
    s->addr = s->base + s->size;
    memory_region_add_subregion(&s->container, s->addr - s->base, mr);
    host_memory_backend_set_mapped(s->hostmem, true);
    s->nr_maps++;
    s->size += memory_region_size(mr);
    s->generation++;
    if (s->nr_maps > 1) {
        trace_window_dev_shared(s->addr, s->nr_maps);
    }
    trace_window_dev_mapped(s->addr, s->size);
}

static void window_dev_unrealize(DeviceState *dev)
{
    WindowDevState *s = WINDOW_DEV(dev);
    MemoryRegion *mr = host_memory_backend_get_memory(s->hostmem);

    /* ok: code-copied-statements */
    memory_region_del_subregion(&s->container, mr);
    host_memory_backend_set_mapped(s->hostmem, false);
    s->size = 0;
    s->nr_maps = 0;
}

static void window_dev_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    dc->realize = window_dev_realize;
    dc->unrealize = window_dev_unrealize;
    dc->hotpluggable = false;
    dc->user_creatable = true;
    dc->desc = "window device";
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    device_class_set_props(dc, window_dev_properties);
}

static void window_dev_big_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    /* ok: code-copied-statements */
    dc->realize = window_dev_realize;
    dc->unrealize = window_dev_unrealize;
    dc->hotpluggable = false;
    dc->user_creatable = true;
    dc->desc = "window device";
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    device_class_set_props(dc, window_dev_properties);
}
