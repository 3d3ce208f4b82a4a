'use server';
import { revalidatePath } from 'next/cache';
import { getContext } from '@/lib/core/context';
import {
  deleteDeviceView,
  deleteDeviceViewSchema,
  saveDeviceView,
  saveDeviceViewSchema,
} from '@/lib/devices/saved-views';
import { authedAction } from '@/lib/server/action';

/** Saves the list's current query under a name, the viewer's own. */
export const saveDeviceViewAction = authedAction(
  { roles: ['agent', 'admin'], schema: saveDeviceViewSchema, audit: 'device-view.saved' },
  async (input, ctx) => {
    const view = await saveDeviceView(getContext().db, input, ctx.viewer);
    revalidatePath('/devices');
    return view;
  },
);

export const deleteDeviceViewAction = authedAction(
  { roles: ['agent', 'admin'], schema: deleteDeviceViewSchema, audit: 'device-view.deleted' },
  async (input, ctx) => {
    const gone = await deleteDeviceView(getContext().db, input.id, ctx.viewer);
    revalidatePath('/devices');
    return gone;
  },
);
