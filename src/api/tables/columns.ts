// Column-definition helpers shared by the per-kind printers. Guarantees: the Name column
// has format `name` (kubectl uses it for `-o name` and for sorting), every other column
// format ''. Descriptions are our own short wording, not Kubernetes' swagger text.
import type { ColumnType, TableColumnDefinition } from './types.js';

export function col(name: string, type: ColumnType, description: string, priority = 0): TableColumnDefinition {
  return { name, type, format: '', description, priority };
}

/** Same as `col` but shown only with `-o wide`. */
export function wide(name: string, type: ColumnType, description: string): TableColumnDefinition {
  return col(name, type, description, 1);
}

export const NAME: TableColumnDefinition = {
  name: 'Name', type: 'string', format: 'name', priority: 0,
  description: 'Name must be unique within a namespace; it identifies the object.',
};

export const AGE: TableColumnDefinition = col('Age', 'string', 'Time since the object was created (metadata.creationTimestamp).');

export const CONTAINERS = wide('Containers', 'string', 'Names of each container in the template.');
export const IMAGES = wide('Images', 'string', 'Images referenced by each container in the template.');
