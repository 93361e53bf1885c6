"""The forms of the desk's pages, one module a part of the desk.

They check the shape of the input; the actions decide whether it may be done.
"""
