// pulumi-gen-sdk LANGUAGE SCHEMA OUTDIR: writes the SDK of a Pulumi package schema in LANGUAGE
// (go, nodejs or python) into OUTDIR, with the generators `pulumi package gen-sdk` runs inside the
// language hosts of v3.248.0.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/blang/semver"

	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	nodejsgen "github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	pythongen "github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: pulumi-gen-sdk go|nodejs|python SCHEMA OUTDIR")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2], os.Args[3]); err != nil {
		fmt.Fprintln(os.Stderr, "pulumi-gen-sdk:", err)
		os.Exit(1)
	}
}

// noReferences is the loader of a schema that refers to no other package (this one): any lookup is an error.
type noReferences struct{}

func (noReferences) LoadPackage(pkg string, _ *semver.Version) (*schema.Package, error) {
	return nil, fmt.Errorf("schema refers to package %q, which this generator cannot load", pkg)
}

func (noReferences) LoadPackageV2(_ context.Context, d *schema.PackageDescriptor) (*schema.Package, error) {
	return nil, fmt.Errorf("schema refers to package %q, which this generator cannot load", d.Name)
}

func (noReferences) LoadPackageReference(pkg string, _ *semver.Version) (schema.PackageReference, error) {
	return nil, fmt.Errorf("schema refers to package %q, which this generator cannot load", pkg)
}

func (noReferences) LoadPackageReferenceV2(_ context.Context, d *schema.PackageDescriptor) (schema.PackageReference, error) {
	return nil, fmt.Errorf("schema refers to package %q, which this generator cannot load", d.Name)
}

func run(language, schemaPath, outDir string) error {
	data, err := os.ReadFile(schemaPath)
	if err != nil {
		return err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		return fmt.Errorf("%s: %w", schemaPath, err)
	}
	pkg, diags, err := schema.BindSpec(spec, noReferences{}, schema.ValidationOptions{})
	if err != nil {
		return err
	}
	if diags.HasErrors() {
		return diags
	}
	var files map[string][]byte
	switch language {
	case "go":
		files, err = gogen.GeneratePackage("pulumi-gen-sdk", pkg, nil)
	case "nodejs":
		files, err = nodejsgen.GeneratePackage("pulumi-gen-sdk", pkg, nil, nil, false, noReferences{})
	case "python":
		files, err = pythongen.GeneratePackage("pulumi-gen-sdk", pkg, nil, noReferences{})
	default:
		return fmt.Errorf("unknown language %q (go, nodejs or python)", language)
	}
	if err != nil {
		return err
	}
	for name, content := range files {
		path := filepath.Join(outDir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, content, 0o644); err != nil {
			return err
		}
	}
	return nil
}
