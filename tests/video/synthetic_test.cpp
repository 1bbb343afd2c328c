#include "semifer/video/synthetic.h"

#include <gtest/gtest.h>

#include "scene.h"

namespace semifer::test {

TEST(DriftingFaces, TwoFacesInsideTheFrameANewOneEvery75Frames) {
  const std::vector<io::Image> faces = synthetic_faces(4, 64, 2);
  const Scene s = video::drifting_faces(faces, 200, 640, 480);
  ASSERT_EQ(s.frames.size(), 200u);
  for (size_t i = 0; i < s.frames.size(); ++i) {
    ASSERT_EQ(s.frames[i].size(), 2u) << i;
    for (const auto& p : s.frames[i]) {
      EXPECT_GE(p.x, 0) << i;
      EXPECT_GE(p.y, 0) << i;
      EXPECT_LE(p.x + p.side, 640) << i;
      EXPECT_LE(p.y + p.side, 480) << i;
      EXPECT_GE(p.side, 100);
      EXPECT_LE(p.side, 150);
    }
    if (i > 0 && i % 75 != 0) {  // drifting: a few pixels a frame
      for (size_t k = 0; k < 2; ++k) {
        EXPECT_EQ(s.frames[i][k].face, s.frames[i - 1][k].face);
        EXPECT_LE(std::abs(s.frames[i][k].x - s.frames[i - 1][k].x), 4.01f);
        EXPECT_GT(std::abs(s.frames[i][k].x - s.frames[i - 1][k].x) +
                      std::abs(s.frames[i][k].y - s.frames[i - 1][k].y),
                  0.0f);
      }
    }
  }
  // Faces 0 and 1, then 2 replaces the second at frame 75, 3 the first at
  // frame 150.
  EXPECT_EQ(s.frames[74][1].face, 1);
  EXPECT_EQ(s.frames[75][0].face, 0);
  EXPECT_EQ(s.frames[75][1].face, 2);
  EXPECT_EQ(s.frames[150][0].face, 3);
  EXPECT_EQ(s.frames[150][1].face, 2);
  // Deterministic, and rendered at its size.
  const Scene again = video::drifting_faces(faces, 200, 640, 480);
  EXPECT_EQ(again.frames[123][1].x, s.frames[123][1].x);
  const io::Image frame = s.render(10);
  EXPECT_EQ(frame.width, 640);
  EXPECT_EQ(frame.height, 480);
  EXPECT_THROW(video::drifting_faces({}, 10), std::exception);
}

}  // namespace semifer::test
