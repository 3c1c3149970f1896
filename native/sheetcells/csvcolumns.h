/* csv_columns (csvcolumns.c), registered in sheetcells.c's module. */
#ifndef SHEETCELLS_CSVCOLUMNS_H
#define SHEETCELLS_CSVCOLUMNS_H

#include <Python.h>

PyObject *sheetcells_csv_columns(PyObject *self, PyObject *args);

#endif
