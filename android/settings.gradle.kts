// Standalone build of the softtoken Android library module (see README.md: it needs the Android
// SDK and NDK, which these development machines do not have).
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}
dependencyResolutionManagement {
    repositories {
        google()
        mavenCentral()
    }
}
rootProject.name = "softtoken-android"
