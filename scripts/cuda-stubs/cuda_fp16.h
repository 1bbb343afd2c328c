#pragma once
// scripts/check-libtorch --cuda: a stand-in, declarations only (README.md).

