# libmxu layer calls: install their header with the other public ones.
PUBLIC_HEADERS += hostlib/mxu_layers.h
