// Tables for people: alignment, no trailing blanks, truncation by code point.
#include <gtest/gtest.h>

#include "ctl/table.h"

namespace gpsrelay::ctl {
namespace {

TEST(CtlTableTest, AlignsColumnsToTheWidestCell) {
  Table table({"ID", "STATE"});
  table.add_row({"1", "up"});
  table.add_row({"12345", "breaker_open"});
  EXPECT_EQ(table.render(),
            "ID     STATE\n"
            "1      up\n"
            "12345  breaker_open\n");
}

TEST(CtlTableTest, MissingCellsAreEmptyAndExtraOnesIgnored) {
  Table table({"A", "B"});
  table.add_row({"x"});
  table.add_row({"y", "z", "ignored"});
  EXPECT_EQ(table.render(), "A  B\nx\ny  z\n");
}

TEST(CtlTableTest, EmptyCellsAtTheEndLeaveNoTrailingBlanks) {
  Table table({"URL", "STATE", "LAST ERROR"});
  table.add_row({"http://a/ingest", "up", ""});
  table.add_row({"http://b/ingest", "", ""});
  table.add_row({"http://c/ingest", "down", "timeout"});
  EXPECT_EQ(table.render(),
            "URL              STATE  LAST ERROR\n"
            "http://a/ingest  up\n"
            "http://b/ingest\n"
            "http://c/ingest  down   timeout\n");
}

TEST(CtlTableTest, AHeaderWiderThanEveryCellSetsTheWidth) {
  Table table({"RETRIES", "X"});
  table.add_row({"3", "y"});
  EXPECT_EQ(table.render(), "RETRIES  X\n3        y\n");
  EXPECT_TRUE(Table({"A"}).empty());
  EXPECT_EQ(Table({"A", "B"}).render(), "A  B\n");
}

TEST(CtlTableTest, WidthCountsCodePointsNotBytes) {
  Table table({"NAME", "X"});
  table.add_row({"Müller", "1"});
  EXPECT_EQ(table.render(), "NAME    X\nMüller  1\n");
}

TEST(CtlTableTest, TruncateCutsWithAnEllipsis) {
  EXPECT_EQ(truncate_cell("short", 10), "short");
  EXPECT_EQ(truncate_cell("exactly10!", 10), "exactly10!");
  EXPECT_EQ(truncate_cell("this is too long", 10), "this is t…");
  EXPECT_EQ(truncate_cell("äöüäöüäöüäöü", 4), "äöü…");
  EXPECT_EQ(truncate_cell("a\nb\tc", 10), "a b c");
  EXPECT_EQ(truncate_cell("ab", 1), "…");
  EXPECT_EQ(truncate_cell("", 3), "");
}

}  // namespace
}  // namespace gpsrelay::ctl
