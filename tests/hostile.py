"""Hostile names shared by the escaping tests (unit, AppTest and the browser): each one tries to become script,
markup, a link, a remote image or misleading text wherever a name, tag, file name or message lands."""

from __future__ import annotations

TEMPLATE_LITERAL = "T ${(window.parent.__xss=1,alert(3))}"
BACKTICK = "back`tick ${window.parent.__xss=2} \\` `+alert(4)+`"
SCRIPT_END = "</script><script>window.parent.__xss=3;alert(5)</script>"
IMG_ONERROR = '<img src=x onerror="window.parent.__xss=4;alert(6)">'
MD_IMAGE = "![x](http://evil.test/x.png)"
MD_LINK = "[Session expired - sign in again](http://evil.test)"
AUTOLINK = "see www.evil.test or http://evil.test/a :red[red] :material/home: $x^2$"
CONTROL = "ctl\x1b[31m\x07 \u202eevil\u202c name\x85"
LONG = "L" * 150 + " ${alert(7)} " + "M" * 100

NAMES = [TEMPLATE_LITERAL, BACKTICK, SCRIPT_END, IMG_ONERROR, MD_IMAGE, MD_LINK, AUTOLINK, CONTROL, LONG]
# Without "/" (file names) and without XML-invalid characters (GPX <name>).
FILE_SAFE = [TEMPLATE_LITERAL, BACKTICK, IMG_ONERROR.replace("/", ""), "![x](http:evil.test)",
             "[Session expired - sign in again](http:evil.test)"]
