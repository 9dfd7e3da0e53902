// Plain-text renderings of a report: the aligned terminal table (ANSI colour
// optional), GitHub Markdown, and CSV with one row per group and raw numbers.
#pragma once

#include <ostream>
#include <string>

#include "hcx/report/compute.h"

namespace hcx::report {

// Aligned columns; with `color`, ANSI colours: green where a group beats its
// baseline by more than noise, red where it is worse or seeds are missing,
// dim where the difference may be noise. Callers pass color = false when
// NO_COLOR is set or stdout is not a terminal.
void render_terminal(const Report& report, std::ostream& out, bool color);

// GitHub-flavoured Markdown: a heading, the tables, the footnotes as a list.
void render_markdown(const Report& report, std::ostream& out);

// One header line, then one line per group: group keys, seed counts, every
// figure as separate mean/std (and CI) columns, numbers unrounded (%.12g),
// empty where there is none. RFC 4180 quoting.
void render_csv(const Report& report, std::ostream& out);

}  // namespace hcx::report
