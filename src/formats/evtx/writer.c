/* EVTX writer (fixtures): see include/iisguard/evtx_writer.h. */
#include "iisguard/evtx_writer.h"
